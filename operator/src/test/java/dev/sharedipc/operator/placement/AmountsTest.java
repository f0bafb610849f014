package dev.sharedipc.operator.placement;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AmountsTest {
  @ParameterizedTest(name = "{0}m -> {1}")
  @CsvSource({"1500, 1500m", "2000, 2", "0, 0", "1, 1m", "250, 250m"})
  void cpuIsPrintedInMillicoresUnlessWholeCores(long millis, String text) {
    assertThat(Amounts.cpu(millis)).isEqualTo(text);
  }

  @ParameterizedTest(name = "{0} bytes -> {1}")
  @CsvSource({
    "3221225472, 3Gi",
    "1610612736, 1536Mi",
    "1000000000, 1G",
    "500000, 500k",
    "1048577, 2Mi",
    "1500, 2Ki",
    "100, 100",
    "0, 0",
  })
  void memoryIsPrintedExactlyWhenItCanBeAndRoundedUpOtherwise(long bytes, String text) {
    assertThat(Amounts.memory(bytes)).isEqualTo(text);
  }
}
