package dev.accr.cli;

import static dev.accr.cli.CliRun.accr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The page of {@code accr inspect --html} in headless Chromium: its script runs to the end
 * without an error, and a screenshot is kept in {@code target/inspect-screenshots/}. Skipped
 * only when no Chromium binary is installed (.ci/run installs the Debian package).
 */
class InspectHtmlInChromiumTest {
  private static final List<String> BROWSERS = List.of("chromium", "chromium-browser",
      "google-chrome");
  private static final Path SCREENSHOTS = Path.of("target", "inspect-screenshots");

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"counter", "kfd-halo", "npu-infer"})
  void pageRendersWithoutScriptErrors(String name) throws Exception {
    Path browser = browser();
    Assumptions.assumeTrue(browser != null, "no Chromium binary (" + BROWSERS + ") on PATH:"
        + " install the Debian package chromium to run this test");
    Path html = tmp.resolve(name + ".html");
    CliRun r = accr("inspect", InspectCommandTest.set(name).toString(), "--html", html.toString());
    assertEquals(0, r.code(), r.err());

    String dom = run(browser, "--dump-dom", html.toUri().toString());
    Matcher body = Pattern.compile("<body([^>]*)>").matcher(dom);
    assertTrue(body.find(), dom);
    assertFalse(body.group(1).contains("data-script-error"), body.group(1));
    Matcher ready = Pattern.compile("data-ready=\"(\\d+)\"").matcher(body.group(1));
    assertTrue(ready.find(), "the page's script did not run to its end: " + body.group(1));
    assertTrue(Integer.parseInt(ready.group(1)) > 0, "the pictures have shapes");
    // Sizes are text on the page, not only tooltips: every picture of memory writes them.
    Pattern size = Pattern.compile("<text[^>]*>[^<]*\\b\\d+(\\.\\d)? (B|KiB|MiB|GiB|TiB)\\b");
    String[] pictures = dom.split("<svg");
    int withSizes = 0;
    for (int i = 1; i < pictures.length; i++) {
      String svg = pictures[i].substring(0, Math.max(0, pictures[i].indexOf("</svg>")));
      if (!svg.contains("red: XGMI")) {
        assertTrue(size.matcher(svg).find(), "a picture without sizes as text: " + svg);
        withSizes++;
      }
    }
    assertTrue(withSizes > 0, "pictures of memory: " + dom);

    Files.createDirectories(SCREENSHOTS);
    Path png = SCREENSHOTS.resolve("inspect-" + name + ".png").toAbsolutePath();
    Files.deleteIfExists(png);
    run(browser, "--screenshot=" + png, "--window-size=1000,1800", html.toUri().toString());
    byte[] head = Arrays.copyOf(Files.readAllBytes(png), 8);
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
    assertTrue(Files.size(png) > 10_000, "a screenshot with something on it");
  }

  private String run(Path browser, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(browser.toString(), "--headless",
        "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--user-data-dir=" + tmp.resolve("profile")));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(tmp.resolve("browser.err").toFile())
        .start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "browser did not finish");
    assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("browser.err")));
    return new String(out, StandardCharsets.UTF_8);
  }

  private static Path browser() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      for (String name : BROWSERS) {
        Path p = Path.of(dir, name);
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    return null;
  }
}
