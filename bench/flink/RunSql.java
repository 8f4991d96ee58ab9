// Runs one Flink SQL script on an embedded MiniCluster (local execution) and
// prints the figures the Rivulet benchmarks print: rows, wall seconds, process
// CPU seconds, rows per CPU-second and per wall-second, peak resident memory.
//
// Usage: java ... RunSql [--events N] [--explain] [--set key=value]... SCRIPT [name=value]...
//   SCRIPT       a file of SQL statements separated by ';' (CREATE TABLE/VIEW..., INSERT)
//   name=value   replaces ${name} in the script
//   --events N   the number of input rows the figures are counted against
//   --explain    also print the INSERT's optimized plan before running it
//   --set k=v    an extra Flink configuration option (repeatable)
//   --per-job    let the local executor start a MiniCluster for the job when it
//                is submitted (Flink's default for a local environment), so its
//                start-up is inside the figures; by default one MiniCluster is
//                started first and the job is submitted to it over its REST
//                endpoint on 127.0.0.1, as Rivulet's bench submits to a cluster
//                it started before
//
// Every statement before an INSERT is executed as it comes. For each INSERT
// the process CPU time (all threads) and the wall clock are read just before
// it is submitted and again after its job has finished, so the figures cover
// planning, submission and the job itself (and with --per-job the MiniCluster's
// start-up); the job's own net run time (from the JobExecutionResult) is
// printed too.

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import java.net.URI;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;

public final class RunSql {

    /** Cluster options: p=1, heap state, no checkpoints, loopback only. */
    static Map<String, String> clusterOptions() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("parallelism.default", "1");
        o.put("state.backend.type", "hashmap");
        // No execution.checkpointing.interval: checkpoints stay off.
        o.put("rest.bind-address", "127.0.0.1");
        o.put("rest.address", "127.0.0.1");
        o.put("rest.port", "0");
        o.put("jobmanager.bind-host", "127.0.0.1");
        o.put("jobmanager.rpc.address", "127.0.0.1");
        o.put("taskmanager.bind-host", "127.0.0.1");
        o.put("taskmanager.host", "127.0.0.1");
        return o;
    }

    /** Flink Nexmark's table options. */
    static Map<String, String> tableOptions() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("table.exec.mini-batch.enabled", "true");
        o.put("table.exec.mini-batch.allow-latency", "2s");
        o.put("table.exec.mini-batch.size", "50000");
        o.put("table.optimizer.distinct-agg.split.enabled", "true");
        return o;
    }

    public static void main(String[] args) throws Exception {
        long events = -1;
        boolean explain = false;
        boolean perJob = false;
        Path scriptPath = null;
        Map<String, String> vars = new LinkedHashMap<>();
        Map<String, String> extra = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--events")) {
                events = Long.parseLong(args[++i]);
            } else if (a.equals("--explain")) {
                explain = true;
            } else if (a.equals("--per-job")) {
                perJob = true;
            } else if (a.equals("--set")) {
                String kv = args[++i];
                int eq = kv.indexOf('=');
                extra.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else if (scriptPath == null) {
                scriptPath = Path.of(a);
            } else {
                int eq = a.indexOf('=');
                if (eq < 0) throw new IllegalArgumentException("expected name=value: " + a);
                vars.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }
        if (scriptPath == null) {
            System.err.println("usage: RunSql [--events N] [--explain] [--set k=v]... SCRIPT [name=value]...");
            System.exit(2);
        }
        String script = Files.readString(scriptPath, StandardCharsets.UTF_8);
        for (Map.Entry<String, String> v : vars.entrySet()) {
            script = script.replace("${" + v.getKey() + "}", v.getValue());
        }
        if (script.contains("${")) {
            int at = script.indexOf("${");
            throw new IllegalArgumentException("unreplaced variable near: "
                    + script.substring(at, Math.min(script.length(), at + 30)));
        }

        Configuration conf = new Configuration();
        Map<String, String> cluster = clusterOptions();
        Map<String, String> table = tableOptions();
        for (Map.Entry<String, String> e : extra.entrySet()) {
            if (e.getKey().startsWith("table.")) table.put(e.getKey(), e.getValue());
            else cluster.put(e.getKey(), e.getValue());
        }
        cluster.forEach(conf::setString);
        MiniCluster miniCluster = null;
        StreamExecutionEnvironment env;
        if (perJob) {
            env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        } else {
            miniCluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(conf)
                    .setNumTaskManagers(1)
                    .setNumSlotsPerTaskManager(1)
                    .build());
            miniCluster.start();
            URI rest = miniCluster.getRestAddress().get();
            Configuration client = new Configuration(conf);
            client.set(DeploymentOptions.TARGET, "remote");
            client.set(DeploymentOptions.ATTACHED, true);
            client.set(RestOptions.ADDRESS, rest.getHost());
            client.set(RestOptions.PORT, rest.getPort());
            env = new StreamExecutionEnvironment(client);
            env.setParallelism(1);
            System.out.println("cluster     MiniCluster started, REST at " + rest);
        }
        StreamTableEnvironment tEnv =
                StreamTableEnvironment.create(env, EnvironmentSettings.inStreamingMode());
        table.forEach((k, v) -> tEnv.getConfig().getConfiguration().setString(k, v));

        System.out.println("script      " + scriptPath);
        System.out.println("config      " + cluster + " " + table);
        System.out.println("jvm         " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB, "
                + Runtime.getRuntime().availableProcessors() + " cpus, gc "
                + gcNames());

        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (String statement : split(script)) {
            if (!isInsert(statement)) {
                tEnv.executeSql(statement);
                continue;
            }
            if (explain) {
                System.out.println(tEnv.explainSql(statement));
            }
            long gcBefore = gcMillis();
            long machine0 = machineBusyTicks();
            long steal0 = stealTicks();
            long cpu0 = os.getProcessCpuTime();
            long wall0 = System.nanoTime();
            TableResult result = tEnv.executeSql(statement);
            JobClient client = result.getJobClient().orElseThrow();
            result.await();
            long wall1 = System.nanoTime();
            long cpu1 = os.getProcessCpuTime();
            long machine1 = machineBusyTicks();
            long steal1 = stealTicks();
            long gcAfter = gcMillis();
            JobExecutionResult jobResult = client.getJobExecutionResult().get();
            double wall = (wall1 - wall0) / 1e9;
            double cpu = (cpu1 - cpu0) / 1e9;
            double net = jobResult.getNetRuntime() / 1e3;
            System.out.println("job         " + client.getJobID());
            System.out.printf(Locale.ROOT, "rows        %d%n", events);
            System.out.printf(Locale.ROOT, "wall_s      %.3f%n", wall);
            System.out.printf(Locale.ROOT, "job_net_s   %.3f%n", net);
            System.out.printf(Locale.ROOT, "cpu_s       %.3f%n", cpu);
            System.out.printf(Locale.ROOT, "gc_s        %.3f%n", (gcAfter - gcBefore) / 1e3);
            // What the rest of the machine used meanwhile: a disturbed run shows here.
            System.out.printf(Locale.ROOT, "other_cpu_s %.1f%n",
                    Math.max(0, (machine1 - machine0) / (double) CLOCK_TICKS - cpu));
            // Time the hypervisor gave this machine's CPUs to others meanwhile.
            System.out.printf(Locale.ROOT, "steal_s     %.1f%n", (steal1 - steal0) / (double) CLOCK_TICKS);
            if (events > 0) {
                System.out.printf(Locale.ROOT, "M_rows_per_cpu_s   %.4f%n", events / cpu / 1e6);
                System.out.printf(Locale.ROOT, "M_rows_per_wall_s  %.4f%n", events / wall / 1e6);
            }
        }
        if (miniCluster != null) {
            miniCluster.close();
        }
        System.out.println("peak_rss_mb " + vmHwmKb() / 1024);
        // Leave no non-daemon thread behind.
        System.exit(0);
    }

    static boolean isInsert(String statement) {
        return statement.stripLeading().regionMatches(true, 0, "INSERT", 0, 6);
    }

    /** Splits on ';' outside quotes, backquotes and comments; drops comments. */
    static List<String> split(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = script.length();
        for (int i = 0; i < n; i++) {
            char c = script.charAt(i);
            if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                while (i < n && script.charAt(i) != '\n') i++;
                cur.append('\n');
            } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                int end = script.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 1;
                cur.append(' ');
            } else if (c == '\'' || c == '`' || c == '"') {
                int j = i + 1;
                while (j < n) {
                    if (script.charAt(j) == c) {
                        if (j + 1 < n && script.charAt(j + 1) == c) { j += 2; continue; }
                        break;
                    }
                    j++;
                }
                cur.append(script, i, Math.min(j + 1, n));
                i = j;
            } else if (c == ';') {
                if (!cur.toString().isBlank()) out.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.toString().isBlank()) out.add(cur.toString().strip());
        return out;
    }

    /** USER_HZ, the unit of /proc/stat (100 on Linux). */
    static final long CLOCK_TICKS = 100;

    /** Busy ticks of all CPUs (user, nice, system, irq, softirq) from /proc/stat. */
    static long machineBusyTicks() throws Exception {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3])
                + Long.parseLong(f[6]) + Long.parseLong(f[7]);
    }

    /** Steal ticks of all CPUs from /proc/stat. */
    static long stealTicks() throws Exception {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        return Long.parseLong(f[8]);
    }

    static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            t += Math.max(0, gc.getCollectionTime());
        }
        return t;
    }

    static String gcNames() {
        List<String> names = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            names.add(gc.getName());
        }
        return String.join("/", names);
    }

    static long vmHwmKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
