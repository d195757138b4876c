package dev.bellows.spring;

/**
 * The {@code bellows.*} application properties. Each maps to the driver setting of the same name
 * (driver/README.md); unset ones fall back to the driver's own lookup (system property, environment).
 */
public class BellowsProperties {
    /** Wrap the application's DataSource beans in Bellows (default true). */
    private boolean enabled = true;
    /** Path or {@code classpath:name.yaml} of the rules file ({@code bellows.rules}). */
    private String rules;
    /** Name reported with usage facts ({@code bellows.appName}); defaults to {@code spring.application.name}. */
    private String appName;
    /** {@code old} or {@code new}: which version of each managed table the application sees ({@code bellows.schema}). */
    private String schema;
    /** How often the bellows.flags table is read ({@code bellows.flags.poll}, e.g. {@code 5s} or {@code off}). */
    private String flagsPoll;
    /**
     * A plain {@code jdbc:postgresql:} URL straight to the server for the flag watcher's LISTEN connection
     * ({@code bellows.flags.url}); setting it makes {@code listen} the default flags mode.
     */
    private String flagsUrl;
    /** {@code check} (the default: flags read on the application's own connections) or {@code listen} ({@code bellows.flags.mode}). */
    private String flagsMode;
    /** In check mode, how old the phases may get before a statement reads them ({@code bellows.flags.staleness}, e.g. {@code 500ms}). */
    private String flagsStaleness;
    /** Share of reads shadowed through the switch rewrite in expand ({@code bellows.shadow}, e.g. {@code 1%}; default off). */
    private String shadow;
    /**
     * How far back the {@code bellows} endpoint's gate verdict and residual use reach (as {@code bellows gate
     * --window}; default {@code 8d}, the CLI's).
     */
    private String gateWindow = "8d";
    /** Where usage goes ({@code bellows.usage}: {@code db}, {@code file:<path>}, {@code log} or {@code off}). */
    private String usage;

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public String getRules() { return rules; }
    public void setRules(String rules) { this.rules = rules; }
    public String getAppName() { return appName; }
    public void setAppName(String appName) { this.appName = appName; }
    public String getSchema() { return schema; }
    public void setSchema(String schema) { this.schema = schema; }
    public String getFlagsPoll() { return flagsPoll; }
    public void setFlagsPoll(String flagsPoll) { this.flagsPoll = flagsPoll; }
    public String getFlagsUrl() { return flagsUrl; }
    public void setFlagsUrl(String flagsUrl) { this.flagsUrl = flagsUrl; }
    public String getFlagsMode() { return flagsMode; }
    public void setFlagsMode(String flagsMode) { this.flagsMode = flagsMode; }
    public String getFlagsStaleness() { return flagsStaleness; }
    public void setFlagsStaleness(String flagsStaleness) { this.flagsStaleness = flagsStaleness; }
    public String getShadow() { return shadow; }
    public void setShadow(String shadow) { this.shadow = shadow; }
    public String getGateWindow() { return gateWindow; }
    public void setGateWindow(String gateWindow) { this.gateWindow = gateWindow; }
    public String getUsage() { return usage; }
    public void setUsage(String usage) { this.usage = usage; }
}
