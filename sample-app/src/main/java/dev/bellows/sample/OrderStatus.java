package dev.bellows.sample;

/** An order's status: the legacy code stores its {@link #text()}, the new code its {@link #code()}. */
public enum OrderStatus {
    PENDING("pending", 1),
    PROCESSING("processing", 2),
    COMPLETED("completed", 3),
    CANCELLED("cancelled", 4);

    private final String text;
    private final int code;

    OrderStatus(String text, int code) {
        this.text = text;
        this.code = code;
    }

    /** The value of the legacy {@code orders.status} text column. */
    public String text() { return text; }

    /** The value of the new {@code orders.status_code} integer column. */
    public int code() { return code; }

    /** The status after this one in an order's life (cancelled and completed stay as they are). */
    public OrderStatus next() {
        return this == PENDING ? PROCESSING : this == PROCESSING ? COMPLETED : this;
    }

    public static OrderStatus ofText(String text) {
        for (OrderStatus s : values()) {
            if (s.text.equals(text)) return s;
        }
        throw new IllegalArgumentException("unknown order status text '" + text + "'");
    }

    public static OrderStatus ofCode(int code) {
        for (OrderStatus s : values()) {
            if (s.code == code) return s;
        }
        throw new IllegalArgumentException("unknown order status code " + code);
    }
}
