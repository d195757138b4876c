package dev.bellows.testapp;

/** Frames outside Bellows' packages, for tests of call-site sampling. */
public final class Caller {
    private Caller() {
    }

    public static void first(Runnable r) {
        r.run();
    }

    public static void second(Runnable r) {
        r.run();
    }
}
