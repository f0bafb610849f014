package dev.sharedipc.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void parsesGoStyleDurations() {
    assertThat(Durations.parse("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("0s")).isEqualTo(Duration.ZERO);
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
  }

  @Test
  void rejectsWhatIsNotADurationWithAnExample() {
    assertThatThrownBy(() -> Durations.parse("10")).hasMessageContaining("such as 10m");
    assertThatThrownBy(() -> Durations.parse("10 minutes")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> Durations.parse("-5m")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> Durations.parse("")).hasMessageContaining("empty");
  }

  @Test
  void formatsCompactly() {
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(Durations.format(Duration.ofSeconds(45))).isEqualTo("45s");
    assertThat(Durations.format(Duration.ofSeconds(125))).isEqualTo("2m5s");
    assertThat(Durations.format(Duration.ofMinutes(65))).isEqualTo("1h5m");
    assertThat(Durations.format(Duration.ofHours(51))).isEqualTo("2d3h");
  }
}
