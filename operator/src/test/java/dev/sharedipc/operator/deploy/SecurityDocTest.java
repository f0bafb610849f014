package dev.sharedipc.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.sharedipc.api.RepoPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/security.md tells a cluster admin what each Role and ClusterRole of deploy/ grants: every
 * table of "resource | verbs | why" that follows a line naming a role must list exactly that role's
 * rules (resource, API group, verb), so that the page a user judges the operator by cannot drift
 * from what it asks for.
 */
class SecurityDocTest {
  private static final Path ROOT = RepoPaths.root();

  /** "ClusterRole `name`" or "Role `name`" in the prose before a table. */
  private static final Pattern ROLE = Pattern.compile("(?:Cluster)?Role `([a-z0-9-]+)`");

  /** "csidrivers (storage.k8s.io)": a resource with its API group. */
  private static final Pattern RESOURCE = Pattern.compile("([a-z/]+)(?: \\(([a-z0-9.]+)\\))?");

  @Test
  void everyRoleTableListsExactlyTheRulesOfItsRole() throws IOException {
    Map<String, TreeSet<String>> documented = documentedGrants();
    Map<String, TreeSet<String>> granted = new TreeMap<>();
    granted.putAll(grants(ROOT.resolve("deploy/operator-rbac.yaml")));
    granted.putAll(grants(ROOT.resolve("deploy/agent-rbac.yaml")));
    assertThat(documented.keySet())
        .as("roles docs/security.md describes, against those deploy/ defines")
        .isEqualTo(granted.keySet());
    for (String role : granted.keySet()) {
      assertThat(documented.get(role))
          .as("docs/security.md's table of %s (group/resource verb)", role)
          .isEqualTo(granted.get(role));
    }
  }

  /** Per role named before a table: "group/resource verb" for each row and verb. */
  private static Map<String, TreeSet<String>> documentedGrants() throws IOException {
    Map<String, TreeSet<String>> grants = new TreeMap<>();
    String role = null;
    boolean inTable = false;
    for (String line : Files.readAllLines(ROOT.resolve("docs/security.md"))) {
      if (line.startsWith("| resource | verbs |")) {
        inTable = role != null;
        continue;
      }
      if (!line.startsWith("|")) {
        inTable = false;
        Matcher m = ROLE.matcher(line);
        while (m.find()) {
          role = m.group(1);
        }
        continue;
      }
      if (!inTable || line.startsWith("|---")) {
        continue;
      }
      String[] cells = line.split("\\|");
      for (String resource : cells[1].split(",")) {
        Matcher r = RESOURCE.matcher(resource.strip());
        assertThat(r.matches()).as("a resource cell of %s: %s", role, resource).isTrue();
        String group =
            r.group(2) != null
                ? r.group(2)
                : r.group(1).startsWith("sharedipc") ? "sharedipc.dev" : "";
        for (String verb : cells[2].split(",")) {
          grants
              .computeIfAbsent(role, k -> new TreeSet<>())
              .add(group + "/" + r.group(1) + " " + verb.strip());
        }
      }
    }
    return grants;
  }

  /** Per Role or ClusterRole of a manifest file: "group/resource verb" for each rule. */
  private static Map<String, TreeSet<String>> grants(Path manifest) throws IOException {
    Map<String, TreeSet<String>> grants = new TreeMap<>();
    List<JsonNode> documents = new ArrayList<>();
    try (var values = new YAMLMapper().readerFor(JsonNode.class).readValues(manifest.toFile())) {
      while (values.hasNext()) {
        documents.add((JsonNode) values.next());
      }
    }
    for (JsonNode doc : documents) {
      String kind = doc.path("kind").asText();
      if (!kind.equals("Role") && !kind.equals("ClusterRole")) {
        continue;
      }
      TreeSet<String> rules =
          grants.computeIfAbsent(doc.path("metadata").path("name").asText(), k -> new TreeSet<>());
      for (JsonNode rule : doc.path("rules")) {
        for (JsonNode group : rule.path("apiGroups")) {
          for (JsonNode resource : rule.path("resources")) {
            for (JsonNode verb : rule.path("verbs")) {
              rules.add(group.asText() + "/" + resource.asText() + " " + verb.asText());
            }
          }
        }
      }
    }
    return grants;
  }
}
