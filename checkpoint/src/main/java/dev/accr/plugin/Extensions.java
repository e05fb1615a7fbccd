package dev.accr.plugin;

import dev.accr.api.AccrException;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where accr finds its extensions (workloads, device types, checkpoint plugins): its own class
 * path, plus the jars of plugin directories ({@code ACCR_PLUGIN_DIR}, {@code --plugin-dir}),
 * loaded by one class loader. Services are looked up once per set of directories.
 */
public final class Extensions {
  /** Environment variable naming plugin directories, separated by ':'. */
  public static final String ENV = "ACCR_PLUGIN_DIR";

  private static final List<Path> dirs = new ArrayList<>();
  private static volatile ClassLoader loader;
  private static final Map<Class<?>, List<?>> services = new ConcurrentHashMap<>();

  private Extensions() {}

  /** Adds the jars of {@code dir}; services are looked up again afterwards. */
  public static synchronized void addPluginDir(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(abs)) {
      throw AccrException.usage("plugin directory %s does not exist", abs);
    }
    if (!dirs.contains(abs)) {
      dirs.add(abs);
      loader = null;
      services.clear();
    }
  }

  /** The plugin directories in use (from the environment and from options). */
  public static synchronized List<Path> pluginDirs() {
    loader();
    return List.copyOf(dirs);
  }

  /** The class loader of extensions. */
  public static synchronized ClassLoader loader() {
    if (loader == null) {
      String env = System.getenv(ENV);
      if (env != null) {
        for (String d : env.split(":")) {
          Path p = Path.of(d).toAbsolutePath().normalize();
          if (!d.isBlank() && Files.isDirectory(p) && !dirs.contains(p)) {
            dirs.add(p);
          }
        }
      }
      loader = build(dirs);
    }
    return loader;
  }

  private static ClassLoader build(List<Path> dirs) {
    ClassLoader parent = Extensions.class.getClassLoader();
    List<URL> jars = new ArrayList<>();
    for (Path dir : dirs) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.jar")) {
        for (Path jar : s) {
          jars.add(jar.toUri().toURL());
        }
      } catch (MalformedURLException e) {
        throw new IllegalStateException(e);
      } catch (IOException e) {
        throw AccrException.failed("plugin directory %s: %s", dir, e.getMessage());
      }
    }
    jars.sort((a, b) -> a.toString().compareTo(b.toString()));
    return jars.isEmpty() ? parent : new URLClassLoader("accr-plugins", jars.toArray(URL[]::new), parent);
  }

  /** Every provider of {@code service}, in discovery order. */
  @SuppressWarnings("unchecked")
  public static <S> List<S> load(Class<S> service) {
    ClassLoader l = loader();
    return (List<S>) services.computeIfAbsent(service, s -> {
      List<S> found = new ArrayList<>();
      for (S provider : ServiceLoader.load(service, l)) {
        found.add(provider);
      }
      return List.copyOf(found);
    });
  }
}
