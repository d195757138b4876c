package dev.bellows.rules;

import java.util.Arrays;

/**
 * Which client {@code ?} parameter feeds each server {@code ?} parameter once a dual write has
 * duplicated some of them. Indexes are 1-based, as in JDBC.
 */
public final class ParamPlan {
    private static final int[][] NONE = new int[0][];
    private final int clientCount;
    private final int[] serverToClient;   // index s-1 -> client index
    private final int[][] clientToServers; // index c-1 -> server indexes
    private final boolean identity;

    ParamPlan(int clientCount, int[] serverToClient) {
        this.clientCount = clientCount;
        this.serverToClient = serverToClient;
        int[] counts = new int[clientCount];
        boolean id = serverToClient.length == clientCount;
        for (int s = 0; s < serverToClient.length; s++) {
            counts[serverToClient[s] - 1]++;
            if (serverToClient[s] != s + 1) id = false;
        }
        this.identity = id;
        int[][] c2s = clientCount == 0 ? NONE : new int[clientCount][];
        for (int c = 0; c < clientCount; c++) c2s[c] = new int[counts[c]];
        int[] fill = new int[clientCount];
        for (int s = 0; s < serverToClient.length; s++) {
            int c = serverToClient[s] - 1;
            c2s[c][fill[c]++] = s + 1;
        }
        this.clientToServers = c2s;
    }

    /** The identity plan for {@code n} parameters. */
    public static ParamPlan identity(int n) {
        int[] s2c = new int[n];
        for (int i = 0; i < n; i++) s2c[i] = i + 1;
        return new ParamPlan(n, s2c);
    }

    /** A plan from its server → client table (1-based values). */
    public static ParamPlan of(int clientCount, int... serverToClient) {
        for (int c : serverToClient) {
            if (c < 1 || c > clientCount) throw new IllegalArgumentException("client index out of range: " + c);
        }
        return new ParamPlan(clientCount, serverToClient.clone());
    }

    public boolean isIdentity() { return identity; }
    /** Number of {@code ?} in the application's SQL. */
    public int clientCount() { return clientCount; }
    /** Number of {@code ?} in the SQL sent to the server. */
    public int serverCount() { return serverToClient.length; }
    /** The client parameter that feeds server parameter {@code server} (1-based). */
    public int clientFor(int server) { return serverToClient[server - 1]; }
    /** The server parameters fed by client parameter {@code client} (1-based); shared array, do not modify. */
    public int[] serversFor(int client) { return clientToServers[client - 1]; }
    /** Whether some client parameter feeds more than one server parameter. */
    public boolean hasDuplicates() { return serverToClient.length > clientCount; }

    @Override public boolean equals(Object o) {
        return o instanceof ParamPlan && ((ParamPlan) o).clientCount == clientCount
            && Arrays.equals(((ParamPlan) o).serverToClient, serverToClient);
    }

    @Override public int hashCode() { return 31 * clientCount + Arrays.hashCode(serverToClient); }

    /** Server → client, e.g. {@code [1, 2, 2, 3]}. */
    @Override public String toString() { return Arrays.toString(serverToClient); }
}
