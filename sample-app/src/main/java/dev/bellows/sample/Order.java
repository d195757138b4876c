package dev.bellows.sample;

import java.math.BigDecimal;

/** An order of a lead. */
public record Order(long id, long leadId, OrderStatus status, BigDecimal amount) {
}
