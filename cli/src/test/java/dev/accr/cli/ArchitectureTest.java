package dev.accr.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.core.importer.Locations;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The arrows of the design, checked on the main classes: api, kernel, image, plugin host,
 * engine, node and cli each use only the layers below them; the core and the cli know no
 * device type; a plugin's main code uses the plugin API, the shared protos, protobuf and the
 * JDK (a plugin that combines others may use them too).
 */
class ArchitectureTest {
  private static final String[] JDK_AND_PROTOBUF = {"java..", "javax..", "com.google.protobuf.."};
  private static final String[] DEVICE_PLUGINS = {
      "dev.accr.kfd..", "dev.accr.npu..", "dev.accr.mixed..", "dev.accr.template.."};
  private static final String[] CORE_AND_CLI = {
      "dev.accr.api..", "dev.accr.proto..", "dev.accr.kernel..", "dev.accr.image..",
      "dev.accr.plugin..", "dev.accr.engine..", "dev.accr.node..", "dev.accr.workload..",
      "dev.accr.cli.."};
  /** Test classes packed in test jars, which DoNotIncludeTests does not recognise. */
  private static final Pattern TEST_JAR = Pattern.compile(".*-tests\\.jar!?/.*");

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    // The template plugin is kept off the test class path (a test loads it from a plugin
    // directory), so its classes are imported from its build output.
    Set<Location> locations = new HashSet<>(Locations.ofPackage("dev.accr"));
    locations.add(Location.of(Path.of("../plugins/template/target/classes").toAbsolutePath()));
    main = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .withImportOption(location -> !location.matches(TEST_JAR))
        .importLocations(locations);
    for (String pkg : List.of("dev.accr.api", "dev.accr.kernel", "dev.accr.engine",
        "dev.accr.cli", "dev.accr.bench", "dev.accr.kfd.plugin", "dev.accr.npu.plugin",
        "dev.accr.mixed", "dev.accr.template")) {
      assertTrue(main.containPackage(pkg), "no classes of " + pkg + " were imported");
    }
  }

  @Test
  void theCoreIsLayeredApiKernelImagePluginHostEngineNodeCli() {
    ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
        .layer("api").definedBy("dev.accr.api..")
        .layer("kernel").definedBy("dev.accr.kernel..")
        .layer("image").definedBy("dev.accr.image..")
        .layer("plugin host").definedBy("dev.accr.plugin..")
        .layer("engine").definedBy("dev.accr.engine..")
        .layer("node").definedBy("dev.accr.node..")
        .layer("cli").definedBy("dev.accr.cli..")
        .whereLayer("cli").mayNotBeAccessedByAnyLayer()
        .whereLayer("node").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("engine").mayOnlyBeAccessedByLayers("node", "cli")
        .whereLayer("plugin host").mayOnlyBeAccessedByLayers("engine", "node", "cli")
        .whereLayer("image").mayOnlyBeAccessedByLayers("plugin host", "engine", "node", "cli")
        .whereLayer("kernel").mayOnlyBeAccessedByLayers("image", "plugin host", "engine", "node",
            "cli");
    layers.check(main);
  }

  @Test
  void builtInWorkloadsUseTheApiOnly() {
    classes().that().resideInAPackage("dev.accr.workload..")
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(JDK_AND_PROTOBUF,
            "dev.accr.api..", "dev.accr.proto..", "dev.accr.workload.."))
        .check(main);
  }

  @Test
  void neitherTheCoreNorTheCliKnowsAnyDeviceType() {
    noClasses().that().resideInAnyPackage(CORE_AND_CLI)
        .should().dependOnClassesThat().resideInAnyPackage(DEVICE_PLUGINS)
        .check(main);
  }

  @Test
  void theBenchmarksAreFoundAsServicesNotNamed() {
    // accr bench finds them with ServiceLoader, so the cli builds without them.
    noClasses().that().resideInAnyPackage(CORE_AND_CLI)
        .should().dependOnClassesThat().resideInAPackage("dev.accr.bench..")
        .check(main);
  }

  @Test
  void kfdUsesTheApiOnly() {
    pluginUsesOnly("dev.accr.kfd..");
  }

  @Test
  void npuUsesTheApiOnly() {
    pluginUsesOnly("dev.accr.npu..");
  }

  @Test
  void templateUsesTheApiOnly() {
    pluginUsesOnly("dev.accr.template..");
  }

  @Test
  void mixedUsesTheApiAndThePluginsItCombines() {
    pluginUsesOnly("dev.accr.mixed..", "dev.accr.kfd..", "dev.accr.npu..");
  }

  private static void pluginUsesOnly(String plugin, String... combined) {
    classes().that().resideInAPackage(plugin)
        .should().onlyDependOnClassesThat().resideInAnyPackage(with(with(JDK_AND_PROTOBUF,
            "dev.accr.api..", "dev.accr.proto..", plugin), combined))
        .allowEmptyShould(false)
        .check(main);
  }

  private static String[] with(String[] base, String... more) {
    String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }
}
