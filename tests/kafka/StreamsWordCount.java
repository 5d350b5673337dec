/*
 * Kafka Streams' word count, written as its users write it, with the
 * settings of Weir's job (examples/wordcount.yaml): exactly_once_v2, every
 * count update emitted (no record cache), the count as a decimal string
 * keyed by the word. Run against weir-broker and Apache Kafka by
 * tests/integration/kafka_streams_wordcount.py; weir-verify checks it.
 * bench/wordcount/run.py runs it too, once as above and once with Kafka
 * Streams' default 10 MB record cache (CACHE_BYTES 10485760), on THREADS
 * stream threads (default 1).
 *
 *   java -cp CLASSES:JARS/* StreamsWordCount BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR
 *       [CACHE_BYTES [THREADS]]
 */
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

public final class StreamsWordCount {
    public static void main(String[] args) throws InterruptedException {
        if (args.length < 5 || args.length > 7) {
            System.err.println("usage: StreamsWordCount BOOTSTRAP INPUT OUTPUT APP_ID STATE_DIR"
                + " [CACHE_BYTES [THREADS]]");
            System.exit(2);
        }
        long cacheBytes = args.length > 5 ? Long.parseLong(args[5]) : 0;
        int threads = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
        p.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(args[1], Consumed.with(Serdes.ByteArray(), Serdes.String()))
            // ASCII letters and digits only, as weir-verify splits words
            .flatMapValues(line -> Arrays.asList(line.split("[^A-Za-z0-9]+")))
            .filter((key, word) -> !word.isEmpty())
            .mapValues(word -> word.toLowerCase(Locale.ROOT))
            .groupBy((key, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
            .count(Materialized.as("counts"))
            .toStream()
            .mapValues(count -> Long.toString(count))
            .to(args[2], Produced.with(Serdes.String(), Serdes.String()));

        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            done.countDown();
        }));
        streams.setStateListener((now, before) -> System.out.println("state " + before + " -> " + now));
        streams.start();
        done.await();
    }
}
