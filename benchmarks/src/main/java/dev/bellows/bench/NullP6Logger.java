package dev.bellows.bench;

import com.p6spy.engine.logging.Category;
import com.p6spy.engine.spy.appender.P6Logger;

/** p6spy appender that enables no category and discards everything: p6spy "with logging off" (see spy.properties). */
public final class NullP6Logger implements P6Logger {

  @Override
  public void logSQL(int connectionId, String now, long elapsed, Category category, String prepared, String sql,
      String url) {
    // discarded
  }

  @Override
  public void logException(Exception e) {
    // discarded
  }

  @Override
  public void logText(String text) {
    // discarded
  }

  @Override
  public boolean isCategoryEnabled(Category category) {
    return false;
  }
}
