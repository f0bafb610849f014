package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"sharedipc.dev/csi-sidecars/csi"
)

type identity struct {
	csipb.UnimplementedIdentityServer
	ready *wrapperspb.BoolValue
	err   error
}

func (i *identity) Probe(context.Context, *csipb.ProbeRequest) (*csipb.ProbeResponse, error) {
	return &csipb.ProbeResponse{Ready: i.ready}, i.err
}

func TestHealthzFollowsThePluginsProbe(t *testing.T) {
	for _, c := range []struct {
		name  string
		id    *identity
		code  int
		reply string
	}{
		{"ready", &identity{ready: wrapperspb.Bool(true)}, 200, "ok"},
		{"ready unset", &identity{}, 200, "ok"},
		{"not ready", &identity{ready: wrapperspb.Bool(false)}, 500, "not ready"},
		{"error", &identity{err: errors.New("disk gone")}, 500, "disk gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			socket := filepath.Join(t.TempDir(), "csi.sock")
			l, err := net.Listen("unix", socket)
			if err != nil {
				t.Fatal(err)
			}
			server := grpc.NewServer()
			csipb.RegisterIdentityServer(server, c.id)
			go server.Serve(l)
			defer server.Stop()
			code, body := get(t, socket)
			if code != c.code || !strings.Contains(body, c.reply) {
				t.Fatalf("/healthz = %d %q, want %d with %q", code, body, c.code, c.reply)
			}
		})
	}
}

func TestHealthzFailsWhenNoPluginListens(t *testing.T) {
	code, _ := get(t, filepath.Join(t.TempDir(), "absent.sock"))
	if code != 500 {
		t.Fatalf("/healthz = %d with no plugin, want 500", code)
	}
}

func get(t *testing.T, socket string) (int, string) {
	conn, err := csi.Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rec := httptest.NewRecorder()
	Handler(conn, 2*time.Second).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return rec.Code, rec.Body.String()
}
