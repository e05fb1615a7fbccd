package dev.accr.api.testkit;

/**
 * The checkpoint engine as the test kit drives it. The plugin API cannot depend on the engine
 * (the engine depends on the API), so the engine's test jar provides this through
 * {@link java.util.ServiceLoader}: a plugin's tests put {@code accr-checkpoint} and its test jar
 * on their test class path, next to this kit.
 */
public interface TestEngine {
  /**
   * Starts an in-process node.
   *
   * @param topology a preset name or the path of a topology file
   */
  TestNode start(String name, String topology);
}
