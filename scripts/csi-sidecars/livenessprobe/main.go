// Command livenessprobe stands in for livenessprobe (github.com/kubernetes-csi), whose Go module
// the proxy serving this machine refuses: it answers HTTP GET /healthz by calling the CSI
// plugin's Identity.Probe, 200 when the plugin is ready and 500 (with the reason) otherwise, which
// is what the agent DaemonSet of deploy/ points its csi container's livenessProbe at.
// Not implemented (deploy/ does not use it): metrics.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"

	"sharedipc.dev/csi-sidecars/csi"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds | log.LUTC)
	fs := flag.NewFlagSet("livenessprobe", flag.ContinueOnError)
	csiAddress := fs.String("csi-address", "/run/csi/socket", "the CSI plugin's socket")
	port := fs.Int("health-port", 9808, "TCP port of /healthz, on every address")
	httpEndpoint := fs.String("http-endpoint", "", "host:port of /healthz (instead of --health-port)")
	timeout := fs.Duration("probe-timeout", time.Second, "how long one Probe call may take")
	csi.Parse(fs, os.Args[1:])

	conn, err := csi.Dial(*csiAddress)
	if err != nil {
		log.Fatalf("cannot dial %s: %v", *csiAddress, err)
	}
	address := *httpEndpoint
	if address == "" {
		address = net.JoinHostPort("", strconv.Itoa(*port))
	}
	log.Printf("probing %s on http://%s/healthz", *csiAddress, address)
	log.Fatal(http.ListenAndServe(address, Handler(conn, *timeout)))
}

// Handler serves /healthz from the plugin's Probe over conn.
func Handler(conn *grpc.ClientConn, timeout time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		resp, err := csipb.NewIdentityClient(conn).Probe(ctx, &csipb.ProbeRequest{})
		switch {
		case err != nil:
			log.Printf("health check failed: %v", err)
			http.Error(w, "probe: "+err.Error(), http.StatusInternalServerError)
		case resp.GetReady() != nil && !resp.GetReady().GetValue():
			log.Printf("health check failed: the plugin is not ready")
			http.Error(w, "probe: the plugin is not ready", http.StatusInternalServerError)
		default:
			fmt.Fprintln(w, "ok")
		}
	})
	return mux
}
