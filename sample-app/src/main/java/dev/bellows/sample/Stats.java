package dev.bellows.sample;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one application instance: statements run, errors, wrong answers, and the distinct error messages. */
public final class Stats {
    private final LongAdder statements = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder wrongAnswers = new LongAdder();
    private final Map<String, LongAdder> messages = new ConcurrentHashMap<>();

    void statement() { statements.increment(); }

    void error(Exception e) {
        errors.increment();
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl);
        if (messages.size() < 50 || messages.containsKey(m)) messages.computeIfAbsent(m, k -> new LongAdder()).increment();
    }

    void wrongAnswer(String what) {
        wrongAnswers.increment();
        if (messages.size() < 50) messages.computeIfAbsent("wrong answer: " + what, k -> new LongAdder()).increment();
    }

    public long statements() { return statements.sum(); }

    /** Statements that failed with an exception. */
    public long errors() { return errors.sum(); }

    /** Statements that succeeded but returned something other than what the service had written. */
    public long wrongAnswers() { return wrongAnswers.sum(); }

    /** Distinct error messages with their counts, most frequent first. */
    public Map<String, Long> messages() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        messages.entrySet().stream()
            .sorted((a, b) -> Long.compare(b.getValue().sum(), a.getValue().sum()))
            .forEach(e -> out.put(e.getKey(), e.getValue().sum()));
        return out;
    }
}
