package dev.sharedipc.operator.runtime;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * How to run the operator, from flags or the environment (every flag has a SHAREDIPC_* variable, so
 * the Deployment can set either).
 */
public class OperatorSettings {
  @Option(
      names = "--namespaces",
      split = ",",
      paramLabel = "NS",
      defaultValue = "${env:SHAREDIPC_WATCH_NAMESPACES:-}",
      description =
          "Namespaces whose groups to reconcile, comma-separated; empty (default) watches all."
              + " Env: SHAREDIPC_WATCH_NAMESPACES.")
  public List<String> namespaces = List.of();

  @Option(
      names = "--leader-election",
      negatable = true,
      fallbackValue = "true",
      defaultValue = "${env:SHAREDIPC_LEADER_ELECTION:-true}",
      description =
          "Run only while holding a Lease, so that several replicas can be deployed (default true)."
              + " Env: SHAREDIPC_LEADER_ELECTION.")
  public boolean leaderElection = true;

  @Option(
      names = "--leader-election-namespace",
      paramLabel = "NS",
      defaultValue = "${env:SHAREDIPC_LEADER_ELECTION_NAMESPACE:-}",
      description =
          "Namespace of the Lease; default: the operator pod's own namespace, or 'default' outside a"
              + " cluster. Env: SHAREDIPC_LEADER_ELECTION_NAMESPACE.")
  public String leaderElectionNamespace = "";

  @Option(
      names = "--http-address",
      paramLabel = "HOST",
      defaultValue = "${env:SHAREDIPC_HTTP_ADDRESS:-0.0.0.0}",
      description =
          "Address of the /healthz, /readyz and /metrics endpoints (default 0.0.0.0). Env: SHAREDIPC_HTTP_ADDRESS.")
  public String httpAddress = "0.0.0.0";

  @Option(
      names = "--http-port",
      paramLabel = "PORT",
      defaultValue = "${env:SHAREDIPC_HTTP_PORT:-8080}",
      description =
          "Port of those endpoints (default 8080; 0 picks a free one). Env: SHAREDIPC_HTTP_PORT.")
  public int httpPort = 8080;

  @Option(
      names = "--concurrent-reconciles",
      paramLabel = "N",
      defaultValue = "${env:SHAREDIPC_CONCURRENT_RECONCILES:-10}",
      description =
          "Groups reconciled at the same time (default 10). Env: SHAREDIPC_CONCURRENT_RECONCILES.")
  public int concurrentReconciles = 10;

  @Option(
      names = "--node-shared-root",
      paramLabel = "DIR",
      defaultValue = "${env:SHAREDIPC_NODE_SHARED_ROOT:-/dev/shm/sharedipc}",
      description =
          "SameNode: directory on every node, on a tmpfs, under which each instance gets its shared"
              + " directory <namespace>_<group>_<index> (default /dev/shm/sharedipc; the node agent must use the same)."
              + " Env: SHAREDIPC_NODE_SHARED_ROOT.")
  public String nodeSharedRoot = "/dev/shm/sharedipc";

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      defaultValue = "${env:SHAREDIPC_LOG_LEVEL:-INFO}",
      description = "ERROR, WARN, INFO (default), DEBUG or TRACE. Env: SHAREDIPC_LOG_LEVEL.")
  public String logLevel = "INFO";

  /**
   * Exit the process when the leader lease is lost, so that a replica that cannot renew never keeps
   * reconciling next to the new leader. Only tests that run several operators in one JVM turn it
   * off.
   */
  public boolean exitOnLostLease = true;

  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      defaultValue = "${env:KUBECONFIG:-}",
      description =
          "Kubeconfig to use; default: in-cluster service account, else KUBECONFIG, else ~/.kube/config.")
  public String kubeconfig = "";
}
