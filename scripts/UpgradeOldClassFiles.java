import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Rewrites the class files of a jar that are older than Java 6 (picocli's are built for
 * Java 5) as Java 8 class files with stack maps, the same code otherwise. The JDK's AOT cache
 * leaves such old classes out (and every class that implements one of their interfaces), so
 * without this each command would load and verify them from the jar at every start.
 *
 * <p>Run by the build with the JDK's source launcher: {@code java UpgradeOldClassFiles.java JAR}.
 */
public final class UpgradeOldClassFiles {
  private static final int JAVA_6 = ClassFile.JAVA_6_VERSION;
  private static final int TARGET = ClassFile.JAVA_8_VERSION;

  public static void main(String[] args) throws IOException {
    Path jar = Path.of(args[0]);
    Path out = jar.resolveSibling(jar.getFileName() + ".upgrading");
    Map<String, Integer> upgraded = new TreeMap<>();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
        ZipFile in = new ZipFile(jar.toFile());
        ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
      // Stack maps need the class hierarchy: the JDK's, then the jar's own classes.
      ClassFile cf = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
              ClassHierarchyResolver.defaultResolver()
                  .orElse(ClassHierarchyResolver.ofResourceParsing(loader))),
          ClassFile.StackMapsOption.GENERATE_STACK_MAPS);
      for (ZipEntry e : Collections.list(in.entries())) {
        byte[] bytes;
        try (InputStream s = in.getInputStream(e)) {
          bytes = s.readAllBytes();
        }
        if (e.getName().endsWith(".class")) {
          ClassModel model = cf.parse(bytes);
          if (model.majorVersion() < JAVA_6) {
            // Rebuilding each method's code is what makes the library generate its stack map.
            bytes = cf.transformClass(model,
                ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                    .andThen((b, element) -> {
                      if (element instanceof ClassFileVersion) {
                        b.withVersion(TARGET, 0);
                      } else {
                        b.with(element);
                      }
                    }));
            String dir = e.getName().contains("/")
                ? e.getName().substring(0, e.getName().lastIndexOf('/')) : "";
            upgraded.merge(dir, 1, Integer::sum);
          }
        }
        ZipEntry copy = new ZipEntry(e.getName());
        copy.setTime(e.getTime());
        zip.putNextEntry(copy);
        zip.write(bytes);
        zip.closeEntry();
      }
    }
    Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING);
    System.out.println("class files upgraded to Java 8: " + (upgraded.isEmpty() ? "none"
        : upgraded.toString()));
  }
}
