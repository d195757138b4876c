package dev.bellows.spring;

import dev.bellows.jdbc.BellowsDataSource;
import dev.bellows.spring.boot3.Boot3HealthIndicator;
import dev.bellows.usage.Durations;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Puts Bellows between the application and its DataSource (see {@link BellowsDataSourcePostProcessor}); with
 * Micrometer, meters ({@link BellowsMetrics}); with Actuator, the {@code bellows} endpoint and a health
 * contributor that stays UP.
 */
@AutoConfiguration
@ConditionalOnClass(BellowsDataSource.class)
@ConditionalOnProperty(prefix = "bellows", name = "enabled", havingValue = "true", matchIfMissing = true)
public class BellowsAutoConfiguration {
    @Bean
    static BellowsDataSourcePostProcessor bellowsDataSourcePostProcessor() {
        return new BellowsDataSourcePostProcessor();
    }

    @Bean
    @ConditionalOnMissingBean
    BellowsRuntimes bellowsRuntimes(ObjectProvider<DataSource> dataSources) {
        return new BellowsRuntimes(dataSources);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class Metrics {
        @Bean
        BellowsMetrics bellowsMetrics(BellowsRuntimes runtimes) {
            return new BellowsMetrics(runtimes);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class Actuator {
        @Bean
        @ConditionalOnMissingBean
        BellowsEndpoint bellowsEndpoint(BellowsRuntimes runtimes, Environment environment) {
            String window = Binder.get(environment).bind("bellows", BellowsProperties.class)
                .orElseGet(BellowsProperties::new).getGateWindow();
            try {
                return new BellowsEndpoint(runtimes, Durations.parse(window));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("bellows.gate-window: " + e.getMessage(), e);
            }
        }
    }

    /** Spring Boot 4: the health API lives in spring-boot-health. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthContributor {
        @Bean(name = "bellowsHealthIndicator")
        @ConditionalOnMissingBean(name = "bellowsHealthIndicator")
        BellowsHealthIndicator bellowsHealthIndicator(BellowsRuntimes runtimes) {
            return new BellowsHealthIndicator(runtimes);
        }
    }

    /** Spring Boot 3.5: the health API of spring-boot-actuator, compiled against it in bellows-spring-boot3-support. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    static class Boot3HealthContributor {
        @Bean(name = "bellowsHealthIndicator")
        @ConditionalOnMissingBean(name = "bellowsHealthIndicator")
        Boot3HealthIndicator bellowsHealthIndicator(BellowsRuntimes runtimes) {
            return new Boot3HealthIndicator(() -> BellowsRuntimes.health(runtimes));
        }
    }
}
