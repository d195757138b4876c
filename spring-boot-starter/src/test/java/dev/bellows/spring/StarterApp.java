package dev.bellows.spring;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;

/** A legacy application: its entity knows user_email only. */
@SpringBootApplication
@EnableJpaRepositories(considerNestedRepositories = true)
public class StarterApp {
    @Entity
    @Table(name = "leads")
    public static class Lead {
        @Id @GeneratedValue(strategy = GenerationType.IDENTITY) Long id;
        @Column(name = "user_email") String userEmail;
        String name;

        protected Lead() {
        }

        Lead(String userEmail, String name) {
            this.userEmail = userEmail;
            this.name = name;
        }
    }

    public interface Leads extends JpaRepository<Lead, Long> {
    }
}
