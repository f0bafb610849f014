package dev.sharedipc.api;

import dev.sharedipc.api.v1alpha1.SharedIpcGroup;
import dev.sharedipc.api.v1alpha1.SharedIpcNode;
import dev.sharedipc.api.v1alpha1.SharedIpcPolicy;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Generates the CRD YAML of {@code crds/} from the Java model with the fabric8 crd-generator. The
 * generator sorts printer columns by name; we put them back in the order the model declares them,
 * because that order is what {@code kubectl get} shows.
 */
public final class CrdGeneration {
  public static final List<Class<? extends HasMetadata>> RESOURCES =
      List.of(SharedIpcGroup.class, SharedIpcNode.class, SharedIpcPolicy.class);

  private CrdGeneration() {}

  /** Generates every CRD into {@code dir} and returns file name to content, sorted by name. */
  public static Map<String, String> generate(Path dir) {
    try {
      Files.createDirectories(dir);
      new CRDGenerator()
          .inOutputDir(dir.toFile())
          .forCRDVersions("v1")
          .withParallelGenerationEnabled(false)
          .withPostProcessor(
              new CRDPostProcessor() {
                @Override
                public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
                  return keepDeclaredColumnOrder(crd);
                }
              })
          .customResourceClasses(RESOURCES)
          .generate();
      Map<String, String> byName = new TreeMap<>();
      try (Stream<Path> files = Files.list(dir)) {
        for (Path file : files.toList()) {
          // sharedipcgroups.sharedipc.dev-v1.yml -> sharedipcgroups.sharedipc.dev.yaml
          String name = file.getFileName().toString().replace("-v1.yml", ".yaml");
          byName.put(name, Files.readString(file));
        }
      }
      return byName;
    } catch (IOException e) {
      throw new UncheckedIOException("generating CRDs into " + dir + " failed", e);
    }
  }

  private static HasMetadata keepDeclaredColumnOrder(HasMetadata resource) {
    CustomResourceDefinition crd = (CustomResourceDefinition) resource;
    Class<?> model =
        RESOURCES.stream()
            .filter(c -> crd.getSpec().getNames().getKind().equals(c.getSimpleName()))
            .findFirst()
            .orElseThrow();
    List<String> declared = new ArrayList<>();
    for (AdditionalPrinterColumn column :
        model.getAnnotationsByType(AdditionalPrinterColumn.class)) {
      declared.add(column.name());
    }
    crd.getSpec().getNames().setCategories(List.of("sharedipc"));
    for (CustomResourceDefinitionVersion version : crd.getSpec().getVersions()) {
      List<CustomResourceColumnDefinition> columns =
          new ArrayList<>(version.getAdditionalPrinterColumns());
      columns.sort(Comparator.comparingInt(c -> declared.indexOf(c.getName())));
      version.setAdditionalPrinterColumns(columns);
    }
    return crd;
  }
}
