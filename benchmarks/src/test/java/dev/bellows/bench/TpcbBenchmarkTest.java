package dev.bellows.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bellows.bench.TpcbBenchmark.Options;
import dev.bellows.bench.TpcbBenchmark.Result;
import dev.bellows.bench.TpcbBenchmark.Variant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Keeps the benchmark runnable; a few seconds at scale 1, nothing like the real run. */
class TpcbBenchmarkTest {

  @Test
  void urls() {
    String plain = "jdbc:postgresql://127.0.0.1:5432/db";
    assertEquals(plain, Variant.PGJDBC.url(plain));
    assertEquals("jdbc:bellows:postgresql://127.0.0.1:5432/db", Variant.BELLOWS_NONE.url(plain));
    assertEquals("jdbc:bellows:postgresql://127.0.0.1:5432/db?bellows.rules=classpath:bench-rules-expand.yaml",
        Variant.BELLOWS_EXPAND.url(plain));
    assertEquals("jdbc:bellows:postgresql://127.0.0.1:5432/db?ssl=false&bellows.rules=classpath:bench-rules-switch.yaml",
        Variant.BELLOWS_SWITCH.url(plain + "?ssl=false"));
    assertEquals("jdbc:p6spy:postgresql://127.0.0.1:5432/db", Variant.P6SPY.url(plain));
  }

  @Test
  void options() {
    Options o = Options.parse("seconds=30", "--rounds=2", "bench.variants=pgjdbc,p6spy");
    assertEquals(30, o.seconds);
    assertEquals(2, o.rounds);
    assertEquals(List.of(Variant.PGJDBC, Variant.P6SPY), o.variants);
    assertEquals(4, o.threads);
    assertThrows(IllegalArgumentException.class, () -> Options.parse("sconds=3"));
    assertThrows(IllegalArgumentException.class, () -> Options.parse("variants=bellows"));
  }

  @Test
  void pairedRatioInterval() {
    double[] same = TpcbBenchmark.geometricMeanInterval(new double[] {0.9, 0.9, 0.9});
    assertEquals(0.9, same[0], 1e-12);
    assertEquals(0.9, same[1], 1e-12);
    assertEquals(0.9, same[2], 1e-12);
    double[] spread = TpcbBenchmark.geometricMeanInterval(new double[] {0.5, 2.0});
    assertEquals(1.0, spread[0], 1e-12);
    assertTrue(spread[1] < 0.5 && spread[2] > 2.0);
  }

  @Test
  void runsEveryVariantWithoutErrors() throws Exception {
    Options o = Options.parse("scale=1", "threads=2", "seconds=1", "rounds=2", "warmup=0.25");
    Map<Variant, Result> results = TpcbBenchmark.run(o);
    assertEquals(List.of(Variant.values()), List.copyOf(results.keySet()));
    for (Result r : results.values()) {
      assertEquals(2, r.rounds.size(), r.variant.id);
      assertTrue(r.transactions() > 0, r.variant.id + " committed nothing");
      assertEquals(0, r.errors(), r.variant.id);
    }
  }
}
