package dev.bellows.usage;

import java.util.Optional;

/**
 * The application's frame that ran a statement: the first stack frame outside the JDK, JDBC drivers, pools,
 * ORMs and Bellows itself, as {@code class.method(File.java:line)}. Names and line numbers only, never values.
 */
final class CallSites {
    /** Packages that are never the application. */
    static final String[] SKIPPED = {
        "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.",
        "org.postgresql.", "com.zaxxer.hikari.", "org.apache.commons.dbcp", "org.apache.tomcat.jdbc.",
        "com.mchange.v2.", "com.p6spy.", "net.ttddyy.dsproxy.",
        "org.hibernate.", "org.springframework.", "org.jooq.", "org.apache.ibatis.", "org.mybatis.", "org.jdbi.",
        "io.micrometer.", "io.opentelemetry.",
        "dev.bellows.jdbc.", "dev.bellows.rules.", "dev.bellows.usage.", "dev.bellows.flags.", "dev.bellows.shaded.",
        "net.sf.jsqlparser.", "com.github.benmanes.caffeine.",
    };

    private static final StackWalker WALKER = StackWalker.getInstance();

    private CallSites() {
    }

    /** The calling application frame, or null when every frame belongs to a skipped package. */
    static String capture() {
        Optional<StackWalker.StackFrame> f = WALKER.walk(s -> s.filter(CallSites::isApplication).findFirst());
        return f.map(CallSites::format).orElse(null);
    }

    static boolean isApplication(StackWalker.StackFrame f) {
        return isApplication(f.getClassName());
    }

    static boolean isApplication(String className) {
        for (String p : SKIPPED) {
            if (className.startsWith(p)) return false;
        }
        return true;
    }

    static String format(StackWalker.StackFrame f) {
        String file = f.getFileName();
        int line = f.getLineNumber();
        return f.getClassName() + "." + f.getMethodName() + "(" + (file == null ? "Unknown Source" : file)
            + (line > 0 ? ":" + line : "") + ")";
    }
}
