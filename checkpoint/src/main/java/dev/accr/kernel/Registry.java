package dev.accr.kernel;

import dev.accr.api.AccrException;
import dev.accr.api.AccrPlugin;
import dev.accr.api.DeviceType;
import dev.accr.api.Workload;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * What is installed: checkpoint plugins, device types and workloads found with
 * {@link ServiceLoader} on accr's class path and in the jars of plugin directories, loaded
 * once, by one class loader, when the registry is built. Immutable; whoever needs it is given
 * it, so two registries (two nodes in one JVM with different plugin directories) never see
 * each other's extensions.
 */
public final class Registry {
  private final List<Path> pluginDirs;
  private final ClassLoader loader;
  private final List<AccrPlugin> plugins;
  private final Map<String, DeviceType> deviceTypes;
  private final Map<String, Workload> workloads;

  private Registry(List<Path> pluginDirs, ClassLoader loader, List<AccrPlugin> plugins,
      List<DeviceType> deviceTypes, List<Workload> workloads) {
    this.pluginDirs = List.copyOf(pluginDirs);
    this.loader = loader;
    this.plugins = List.copyOf(plugins);
    Map<String, DeviceType> types = new LinkedHashMap<>();
    deviceTypes.forEach(t -> types.putIfAbsent(t.type(), t));
    this.deviceTypes = types;
    Map<String, Workload> byName = new TreeMap<>();
    workloads.forEach(w -> byName.putIfAbsent(w.name(), w));
    this.workloads = byName;
  }

  /**
   * The extensions on accr's class path and in the jars of {@code pluginDirs}.
   *
   * @throws AccrException with exit code 2 if a directory does not exist
   */
  public static Registry load(List<Path> pluginDirs) {
    List<Path> dirs = new ArrayList<>();
    for (Path dir : pluginDirs) {
      Path abs = dir.toAbsolutePath().normalize();
      if (!Files.isDirectory(abs)) {
        throw AccrException.usage("plugin directory %s does not exist", abs);
      }
      if (!dirs.contains(abs)) {
        dirs.add(abs);
      }
    }
    ClassLoader loader = classLoader(dirs);
    return new Registry(dirs, loader, find(AccrPlugin.class, loader),
        find(DeviceType.class, loader), find(Workload.class, loader));
  }

  /** Exactly these extensions (tests). */
  public static Registry of(List<AccrPlugin> plugins, List<DeviceType> deviceTypes,
      List<Workload> workloads) {
    return new Registry(List.of(), Registry.class.getClassLoader(), plugins, deviceTypes,
        workloads);
  }

  private static ClassLoader classLoader(List<Path> dirs) {
    ClassLoader parent = Registry.class.getClassLoader();
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
    return jars.isEmpty() ? parent
        : new URLClassLoader("accr-plugins", jars.toArray(URL[]::new), parent);
  }

  private static <S> List<S> find(Class<S> service, ClassLoader loader) {
    List<S> found = new ArrayList<>();
    for (S provider : ServiceLoader.load(service, loader)) {
      found.add(provider);
    }
    return found;
  }

  /** The plugin directories whose jars were loaded. */
  public List<Path> pluginDirs() {
    return pluginDirs;
  }

  /** The class loader of the extensions (resources of presets). */
  public ClassLoader loader() {
    return loader;
  }

  /** Checkpoint plugins in discovery order (the plugin host checks and orders them). */
  public List<AccrPlugin> plugins() {
    return plugins;
  }

  /** Device types, the first of each type name found. */
  public Collection<DeviceType> deviceTypes() {
    return deviceTypes.values();
  }

  /** The device type named {@code type}, or null if none is installed. */
  public DeviceType deviceType(String type) {
    return deviceTypes.get(type);
  }

  /** Installed workloads by name. */
  public Map<String, Workload> workloads() {
    return workloads;
  }

  /** The workload called {@code name}; an unknown name lists the installed ones (exit 2). */
  public Workload workload(String name) {
    Workload w = workloads.get(name);
    if (w == null) {
      throw AccrException.usage("unknown workload '%s' (installed: %s)", name,
          String.join(", ", workloads.keySet()));
    }
    return w;
  }

  /** The topologies this registry knows: core presets, its device types' presets, files. */
  public Topologies topologies() {
    return new Topologies(this);
  }
}
