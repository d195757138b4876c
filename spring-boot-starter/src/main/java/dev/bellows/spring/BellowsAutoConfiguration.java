package dev.bellows.spring;

import dev.bellows.jdbc.BellowsDataSource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** Puts Bellows between the application and its DataSource; see {@link BellowsDataSourcePostProcessor}. */
@AutoConfiguration
@ConditionalOnClass(BellowsDataSource.class)
@ConditionalOnProperty(prefix = "bellows", name = "enabled", havingValue = "true", matchIfMissing = true)
public class BellowsAutoConfiguration {
    @Bean
    static BellowsDataSourcePostProcessor bellowsDataSourcePostProcessor() {
        return new BellowsDataSourcePostProcessor();
    }
}
