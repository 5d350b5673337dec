"""SQL jobs in cluster mode: examples/wordcount.sql submitted with weirctl
to a coordinator and two workers counts exactly once (the checker and
weir-verify); a copy writing elsewhere, submitted with --name, runs
beside it under that name; --name on a YAML job is refused. weirctl sql
submits the same statements typed in (job shellcounts, its fused stream
with it) and answers a pull query of the table; a statement with an error
is reported with its line and column, and so is a pull query whose WHERE
names another column than the table's key."""
import json
import os
import subprocess
import sys

from cluster_common import (coordinator, create_topic, produce, seed_lines,
                            wait_exact, wait_running, weirctl, weirctl_json,
                            weirtest, worker)
from weirtest import BIN_DIR, SOURCE_DIR
from worker_common import last_counts


def main():
    with weirtest.Cluster() as c:
        bs = c.broker().bootstrap
        create_topic(bs, "text-lines", 4)
        coord = coordinator(c, bootstrap=bs)
        for i in (1, 2):
            worker(c, "w%d" % i, coord, bs)
        sql = os.path.join(SOURCE_DIR, "examples", "wordcount.sql")
        _, out, _ = weirctl(coord, "submit", sql)
        assert "submitted job wordcount (8 tasks)" in out, out
        with open(sql) as f:
            text = f.read()
        copy = c.path("copy.sql")
        with open(copy, "w") as f:
            f.write(text.replace("KAFKA_TOPIC='wordcounts'",
                                 "KAFKA_TOPIC='wordcounts-copy'"))
        _, out, _ = weirctl(coord, "--name", "wc-copy", "submit", copy)
        assert "submitted job wc-copy" in out, out
        code, _, err = weirctl(coord, "--name", "x", "submit", os.path.join(
            SOURCE_DIR, "examples", "wordcount.yaml"), check=False)
        assert code != 0 and "--name is for .sql jobs" in err, err
        names = {j["name"] for j in weirctl_json(coord, "jobs")["jobs"]}
        assert names == {"wordcount", "wc-copy"}, names
        wait_running(coord, job="wordcount")
        wait_running(coord, job="wc-copy")
        produce(bs, "text-lines", seed_lines())
        print(wait_exact(bs, "text-lines", "wordcounts"))
        print(wait_exact(bs, "text-lines", "wordcounts-copy"))
        shell = text.replace("KAFKA_TOPIC='wordcounts'",
                             "KAFKA_TOPIC='wordcounts-shell'").replace(
            "CREATE TABLE wordcounts", "CREATE TABLE shellcounts")
        code, out, err = weirctl(coord, "sql", "-e", shell)
        assert code == 0, err
        assert "declared lines" in out and "words: fused" in out, out
        assert "submitted job shellcounts" in out, out
        wait_running(coord, job="shellcounts")
        print(wait_exact(bs, "text-lines", "wordcounts-shell"))
        last = last_counts(bs, "wordcounts-shell")
        word = max(last, key=last.get)
        code, out, err = weirctl(coord, "--http", coord.http, "sql", "-e",
                                 "SELECT * FROM shellcounts WHERE word = '%s';"
                                 % word)
        assert code == 0 and json.loads(out)["value"] == last[word], (out, err)
        # WHERE on a column that is not the table's key: refused, with
        # where (declared in the session, or created by GROUP BY).
        code, out, err = weirctl(
            coord, "--http", coord.http, "sql", "-e",
            "CREATE TABLE counts (word VARCHAR PRIMARY KEY, n BIGINT) WITH "
            "(KAFKA_TOPIC='wordcounts-shell', VALUE_FORMAT='DELIMITED');\n"
            "SELECT * FROM counts\n  WHERE n = 3;\n", check=False)
        assert code != 0 and "sql:3:9: error: in SELECT ... FROM counts: n " \
            "is not the key column of counts; a pull query looks up the " \
            "key: WHERE word = 'value'" in err, (code, out, err)
        code, out, err = weirctl(
            coord, "--http", coord.http, "sql", "-e",
            "CREATE TABLE shellcounts (word VARCHAR PRIMARY KEY, n BIGINT) "
            "WITH (KAFKA_TOPIC='wordcounts-shell', VALUE_FORMAT='DELIMITED');"
            "\nSELECT * FROM shellcounts WHERE shellcounts.WORD = '%s';\n"
            % word)
        assert json.loads(out.split("\n", 1)[1])["value"] == last[word], out
        p = subprocess.run([os.path.join(BIN_DIR, "weirctl"), "--coordinator",
                            coord.url, "sql"], input="SELECT * FROM\n  x;\n",
                           capture_output=True, text=True, timeout=30)
        assert "sql:1:1: error: a pull query is SELECT ... FROM table WHERE" \
            in p.stderr, p.stderr
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
