// Command registrar stands in for node-driver-registrar (github.com/kubernetes-csi), whose Go
// module the proxy serving this machine refuses: it registers a CSI plugin with the kubelet
// through the kubelet's plugin-registration API, which is what the agent DaemonSet of deploy/
// runs it for. It asks the plugin its name (GetPluginInfo), serves the Registration service on
// <plugin-registration-path>/<name>-reg.sock where the kubelet's plugin watcher finds it, and
// exits non-zero when the kubelet reports the registration failed, so the kubelet restarts it.
// Not implemented (deploy/ does not use them): mode flags, metrics, Windows paths.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"sharedipc.dev/csi-sidecars/csi"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	fs := flag.NewFlagSet("csi-node-driver-registrar", flag.ContinueOnError)
	csiAddress := fs.String("csi-address", "/run/csi/socket", "the CSI plugin's socket, as this container sees it")
	kubeletPath := fs.String("kubelet-registration-path", "", "the CSI plugin's socket, as the kubelet (the node) sees it (required)")
	registrationDir := fs.String("plugin-registration-path", "/registration", "the kubelet's plugin registration directory, as this container sees it")
	httpEndpoint := fs.String("http-endpoint", "", "address of an HTTP server answering /healthz (none when empty)")
	csi.Parse(fs, os.Args[1:])
	if *kubeletPath == "" {
		fmt.Fprintln(os.Stderr, "csi-node-driver-registrar: --kubelet-registration-path is required")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	conn, err := csi.Dial(*csiAddress)
	if err != nil {
		log.Fatalf("cannot dial %s: %v", *csiAddress, err)
	}
	var name string
	err = csi.WaitFor(ctx, "GetPluginInfo on "+*csiAddress, func(c context.Context) error {
		info, err := csipb.NewIdentityClient(conn).GetPluginInfo(c, &csipb.GetPluginInfoRequest{})
		if err == nil {
			name = info.GetName()
		}
		return err
	})
	conn.Close()
	if err != nil {
		log.Printf("stopped before the plugin answered: %v", err)
		return
	}
	log.Printf("plugin %s at %s (the kubelet's path: %s)", name, *csiAddress, *kubeletPath)

	failed := make(chan string, 1)
	server, socket, err := Serve(*registrationDir, &Registration{
		Name:     name,
		Endpoint: *kubeletPath,
		Failed:   failed,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(socket)
	log.Printf("serving plugin registration on %s", socket)

	if *httpEndpoint != "" {
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
				if _, err := os.Stat(socket); err != nil {
					http.Error(w, "registration socket: "+err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprintln(w, "ok")
			})
			log.Printf("health on http://%s/healthz: %v", *httpEndpoint, http.ListenAndServe(*httpEndpoint, mux))
		}()
	}

	select {
	case <-ctx.Done():
		log.Printf("stopping: %v", context.Cause(ctx))
		server.Stop()
	case reason := <-failed:
		server.Stop()
		os.Remove(socket)
		log.Fatalf("the kubelet did not register %s: %s", name, reason)
	}
}

// Serve listens on <dir>/<name>-reg.sock (a stale socket of an earlier run is removed first) and
// serves reg there; it returns the server and the socket's path.
func Serve(dir string, reg *Registration) (*grpc.Server, string, error) {
	socket := filepath.Join(dir, reg.Name+"-reg.sock")
	if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
		return nil, "", fmt.Errorf("cannot remove the stale %s: %w", socket, err)
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		return nil, "", fmt.Errorf("cannot listen on %s: %w", socket, err)
	}
	server := grpc.NewServer()
	registerapi.RegisterRegistrationServer(server, reg)
	go func() {
		if err := server.Serve(l); err != nil {
			log.Printf("registration server: %v", err)
		}
	}()
	return server, socket, nil
}

// Registration answers the kubelet's plugin watcher for one CSI plugin.
type Registration struct {
	registerapi.UnimplementedRegistrationServer
	Name     string
	Endpoint string
	// Failed receives the kubelet's error when it could not register the plugin.
	Failed chan<- string
}

// GetInfo tells the kubelet what the plugin is and where the kubelet reaches it.
func (r *Registration) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	log.Printf("the kubelet asks for the plugin's info")
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              r.Name,
		Endpoint:          r.Endpoint,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

// NotifyRegistrationStatus is the kubelet's verdict.
func (r *Registration) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if s.PluginRegistered {
		log.Printf("the kubelet registered %s", r.Name)
	} else {
		select {
		case r.Failed <- s.Error:
		default:
		}
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}
