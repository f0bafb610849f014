package dev.sharedipc.e2e.harness;

import java.lang.reflect.Method;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * {@code @ExtendWith(E2EExtension.class)}: gives a scenario the shared {@link E2EEnvironment}
 * (started on first use, closed when the whole run ends) and a fresh {@link TestNamespace} per
 * test; when a test fails, prints (and keeps in {@code e2e/target/e2e-logs/}) the namespace's
 * Events, groups and pods and the operator's log, then deletes the namespace. A failure of the test
 * method itself is dumped as it happens, before the test's {@code @AfterEach} methods clean up (a
 * dump taken after them once showed the pods gone and the nodes lost, which was the cleanup).
 */
public final class E2EExtension
    implements BeforeAllCallback,
        BeforeEachCallback,
        AfterEachCallback,
        TestExecutionExceptionHandler,
        ParameterResolver {
  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(E2EExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    // Each tier runs its own classes (e2e/pom.xml): a -Dit.test that names a class of the other
    // tier reaches both executions, and each skips the other's classes before starting anything.
    boolean realNodeClass = context.getRequiredTestClass().getSimpleName().endsWith("RealNodeE2E");
    boolean realNodeTier = LocalControlPlane.Nodes.fromSystemProperties().real() > 0;
    org.junit.jupiter.api.Assumptions.assumeTrue(
        realNodeClass == realNodeTier,
        () ->
            context.getRequiredTestClass().getSimpleName()
                + (realNodeClass
                    ? " runs in the real-node tier (failsafe execution real-nodes), not here"
                    : " runs in the simulated tier, not with real nodes"));
    // In the root store, so that JUnit closes it once, after the last test class of the run.
    context
        .getRoot()
        .getStore(STORE)
        .getOrComputeIfAbsent(
            E2EEnvironment.class, k -> E2EEnvironment.shared(), E2EEnvironment.class);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    E2EEnvironment env = environment(context);
    TestNamespace ns = TestNamespace.create(env, namespaceName(context));
    context.getStore(STORE).put(TestNamespace.class, ns);
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure)
      throws Throwable {
    TestNamespace ns = context.getStore(STORE).get(TestNamespace.class, TestNamespace.class);
    if (ns != null) {
      dump(context, ns, failure);
      context.getStore(STORE).put(Dumped.class, new Dumped());
    }
    throw failure;
  }

  /** Marks a failure already dumped when the test method threw it. */
  private record Dumped() {}

  @Override
  public void afterEach(ExtensionContext context) {
    TestNamespace ns = context.getStore(STORE).remove(TestNamespace.class, TestNamespace.class);
    if (ns == null) {
      return;
    }
    boolean dumped = context.getStore(STORE).remove(Dumped.class, Dumped.class) != null;
    if (!dumped) {
      // a failure of a @BeforeEach or @AfterEach method
      context.getExecutionException().ifPresent(failure -> dump(context, ns, failure));
    }
    ns.delete();
  }

  private static void dump(ExtensionContext context, TestNamespace ns, Throwable failure) {
    Diagnostics.dump(
        environment(context),
        ns,
        context.getRequiredTestClass().getSimpleName()
            + "."
            + context.getRequiredTestMethod().getName(),
        failure);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == E2EEnvironment.class || type == TestNamespace.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    if (type == E2EEnvironment.class) {
      return environment(context);
    }
    TestNamespace ns = context.getStore(STORE).get(TestNamespace.class, TestNamespace.class);
    if (ns == null) {
      throw new IllegalStateException(
          "a TestNamespace exists only for test methods (not in @BeforeAll)");
    }
    return ns;
  }

  private static E2EEnvironment environment(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(STORE)
        .getOrComputeIfAbsent(
            E2EEnvironment.class, k -> E2EEnvironment.shared(), E2EEnvironment.class);
  }

  /** e2e-<method, shortened>-<4 random chars>: a DNS-1123 label of at most 63 characters. */
  static String namespaceName(ExtensionContext context) {
    String method = context.getTestMethod().map(Method::getName).orElse("test");
    String kebab =
        method
            .replaceAll("([a-z0-9])([A-Z])", "$1-$2")
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9-]", "-");
    if (kebab.length() > 40) {
      kebab = kebab.substring(0, 40).replaceAll("-+$", "");
    }
    String suffix =
        Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36, 36 * 36 * 36 * 36), 36);
    return "e2e-" + kebab + "-" + suffix;
  }
}
