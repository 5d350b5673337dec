"""The scaling contender: Weir in cluster mode, a weir-coordinator and
1 or 2 weir-worker processes (2 stream threads each), the emit:update job
submitted with weirctl. Timed like every contender, from starting the
coordinator until the whole input is committed; its CPU and peak RSS are
the coordinator's and the workers' together."""
import cluster_common
from contenders import Contender, weir_job


class WeirCluster(Contender):
    n_repartition = 1

    def __init__(self, workers):
        self.workers = workers
        self.key = "weir-cluster%d" % workers
        self.label = "Weir cluster, %d worker%s" % (
            workers, "s" if workers > 1 else "")

    def start(self, ctx, group, output):
        coord = cluster_common.coordinator(ctx.c, name=group + "-coord",
                                           bootstrap=ctx.bs)
        procs = [coord]
        procs += [cluster_common.worker(ctx.c, "%s-w%d" % (group, i + 1),
                                        coord, ctx.bs)
                  for i in range(self.workers)]
        job = weir_job(ctx.c.path(group + ".yaml"), group, ctx.input, output)
        _, out, _ = cluster_common.weirctl(coord, "submit", job)
        assert "submitted job " + group in out, out
        return procs
