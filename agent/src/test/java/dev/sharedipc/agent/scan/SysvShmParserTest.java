package dev.sharedipc.agent.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SysvShmParserTest {
  static final String HEADER =
      "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n";

  static SysvShmParser.Result parse(String text) {
    return SysvShmParser.parse(42, text.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void parsesEveryColumnAsTheKernelPrintsThem() {
    var r =
        parse(
            HEADER
                + "      4660      32769  1600                 65536  1234  1240      2  1000  1001  1002  1003 1700000001 1700000002 1700000000                  8192                  4096\n");
    assertThat(r.malformedLines()).isZero();
    Segment s = r.segments().get(0);
    assertThat(s)
        .isEqualTo(
            new Segment(
                42,
                0x1234,
                32769,
                01600,
                65536,
                1234,
                1240,
                2,
                1000,
                1001,
                1002,
                1003,
                1700000001L,
                1700000002L,
                1700000000L,
                8192,
                4096));
    assertThat(s.keyHex()).isEqualTo("0x00001234");
    assertThat(s.permsOctal()).isEqualTo("600");
    assertThat(s.markedForRemoval()).isTrue();
  }

  @Test
  void negativeKeysAreKeysWithTheHighBitSet() {
    var r = parse(HEADER + " -1 5 600 4096 1 0 0 0 0 0 0 0 0 10 0 0\n");
    assertThat(r.segments().get(0).keyHex()).isEqualTo("0xffffffff");
  }

  @Test
  void kernelsWithoutRssAndSwapColumnsParseWithUnknownRss() {
    var r = parse(HEADER + " 0 5 600 4096 1 0 0 0 0 0 0 0 0 10\n");
    assertThat(r.segments()).singleElement().satisfies(s -> assertThat(s.rssBytes()).isEqualTo(-1));
  }

  @Test
  void malformedLinesAreCountedAndSkippedNeverGuessed() {
    var r =
        parse(
            HEADER
                + "garbage line\n"
                + " 0 5 600 4096 1 0 0 0 0 0 0 0 0 10 0 0\n"
                + " 0 6 689 4096 1 0 0 0 0 0 0 0 0 10 0 0\n" // 9 is not octal
                + " 0 7 600 4096 1 0 0\n" // truncated
                + " 0 8 600 4096 1 0 0 0 0 0 0 0 0 10 0 0 99\n" // too many
                + "\n"
                + " 0 9 600 4096 1 0 0 0 0 0 0 0 0 10 0 0"); // last line without newline
    assertThat(r.segments()).extracting(Segment::shmid).containsExactly(5, 9);
    assertThat(r.malformedLines()).isEqualTo(4);
  }

  @Test
  void emptyInputAndHeaderOnlyHaveNoSegments() {
    assertThat(parse("").segments()).isEmpty();
    assertThat(parse(HEADER).segments()).isEmpty();
  }
}
