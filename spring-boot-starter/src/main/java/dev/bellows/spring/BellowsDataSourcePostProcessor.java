package dev.bellows.spring;

import dev.bellows.jdbc.BellowsDataSource;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Wraps every DataSource bean (the auto-configured HikariCP pool, or the application's own) in a
 * {@link BellowsDataSource} once it is initialised. The pool stays inside: it pools plain pgjdbc connections,
 * validates and resets them without Bellows in the way, and keeps its metrics; each borrowed connection is
 * wrapped on its way out, and all of them share one Bellows runtime (rules, phases, catalog, rewrite cache)
 * keyed by the pool. Everything that asks the context for a DataSource (JPA, JdbcTemplate, Flyway and Liquibase
 * without their own URL) gets the wrapped one. {@code unwrap} still reaches the pool (HikariDataSource).
 */
final class BellowsDataSourcePostProcessor implements BeanPostProcessor, EnvironmentAware, Ordered {
    private BellowsProperties properties;
    private String applicationName;

    @Override public void setEnvironment(Environment environment) {
        Binder binder = Binder.get(environment);
        properties = binder.bind("bellows", BellowsProperties.class).orElseGet(BellowsProperties::new);
        applicationName = environment.getProperty("spring.application.name");
    }

    @Override public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        if (!(bean instanceof DataSource) || bean instanceof BellowsDataSource || !properties.isEnabled()) return bean;
        return wrap((DataSource) bean, properties, applicationName);
    }

    static BellowsDataSource wrap(DataSource pool, BellowsProperties p, String applicationName) {
        BellowsDataSource ds = new BellowsDataSource(pool);
        if (p.getRules() != null) ds.setRules(p.getRules());
        String app = p.getAppName() != null ? p.getAppName() : applicationName;
        if (app != null) ds.setAppName(app);
        if (p.getSchema() != null) ds.setSchemaView(p.getSchema());
        if (p.getFlagsPoll() != null) ds.setFlagsPoll(p.getFlagsPoll());
        if (p.getFlagsUrl() != null) ds.setFlagsUrl(p.getFlagsUrl());
        try {
            if (p.getUsage() != null) ds.setProperty("bellows.usage", p.getUsage());
            if (p.getFlagsMode() != null) ds.setProperty("bellows.flags.mode", p.getFlagsMode());
            if (p.getFlagsStaleness() != null) ds.setProperty("bellows.flags.staleness", p.getFlagsStaleness());
            if (p.getShadow() != null) ds.setProperty("bellows.shadow", p.getShadow());
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return ds;
    }

    @Override public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after other post-processors have finished the pool
    }
}
