package dev.bellows.spring;

import dev.bellows.jdbc.BellowsDataSource;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

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
        BellowsEndpoint bellowsEndpoint(BellowsRuntimes runtimes) {
            return new BellowsEndpoint(runtimes);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthContributor {
        @Bean(name = "bellowsHealthIndicator")
        @ConditionalOnMissingBean(name = "bellowsHealthIndicator")
        BellowsHealthIndicator bellowsHealthIndicator(BellowsRuntimes runtimes) {
            return new BellowsHealthIndicator(runtimes);
        }
    }
}
