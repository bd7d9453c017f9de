package io.kinfer.client.replay;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Chromium, headless, for looking at generated reports the way a user will. Found via
 * {@code KINFER_BROWSER} (CI sets it after installing the package) or {@code /usr/bin/chromium};
 * absent on a machine with only Java and Maven, where tests fall back to structural checks.
 */
final class HeadlessChromium {
  private final Path executable;
  private final Path profile;

  private HeadlessChromium(Path executable, Path profile) {
    this.executable = executable;
    this.profile = profile;
  }

  static Optional<HeadlessChromium> find(Path workDir) {
    String configured = System.getenv("KINFER_BROWSER");
    Path exe = configured != null && !configured.isBlank() ? Path.of(configured) : Path.of("/usr/bin/chromium");
    if (!Files.isExecutable(exe)) {
      if (configured != null && !configured.isBlank()) {
        throw new IllegalStateException("KINFER_BROWSER=" + configured + " is not an executable browser");
      }
      return Optional.empty();
    }
    return Optional.of(new HeadlessChromium(exe, workDir.resolve("chromium-profile")));
  }

  /** The DOM after the browser parsed the page. */
  String dumpDom(Path page, Path log) throws Exception {
    return run(page, log, "--dump-dom");
  }

  /** A screenshot of the page as rendered. */
  Path screenshot(Path page, Path png, Path log) throws Exception {
    run(page, log, "--screenshot=" + png, "--window-size=1200,3000");
    return png;
  }

  private String run(Path page, Path log, String... what) throws Exception {
    // Flags as this machine's probe found necessary: no sandbox as root, and no background
    // networking, which the closed network refuses noisily.
    List<String> command = new ArrayList<>(List.of(executable.toString(), "--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
        "--user-data-dir=" + profile));
    command.addAll(List.of(what));
    command.add(page.toUri().toString());
    Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("Chromium did not finish within 60 s: " + command);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("Chromium exited " + p.exitValue() + ": " + Files.readString(log));
    }
    return out;
  }
}
