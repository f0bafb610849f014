package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"sharedipc.dev/csi-sidecars/csi"
)

// The kubelet's plugin watcher finds <name>-reg.sock, asks GetInfo and reports its verdict.
func TestTheKubeletGetsThePluginsInfoAndAFailureReachesMain(t *testing.T) {
	dir := t.TempDir()
	failed := make(chan string, 1)
	server, socket, err := Serve(dir, &Registration{Name: "shm.sharedipc.dev", Endpoint: "/var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock", Failed: failed})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop()
	if want := filepath.Join(dir, "shm.sharedipc.dev-reg.sock"); socket != want {
		t.Fatalf("socket %s, want %s", socket, want)
	}
	conn, err := csi.Dial(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kubelet := registerapi.NewRegistrationClient(conn)
	info, err := kubelet.GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != registerapi.CSIPlugin || info.Name != "shm.sharedipc.dev" ||
		info.Endpoint != "/var/lib/kubelet/plugins/shm.sharedipc.dev/csi.sock" || len(info.SupportedVersions) == 0 {
		t.Fatalf("GetInfo = %+v", info)
	}
	if _, err := kubelet.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-failed:
		t.Fatalf("a success reported as a failure: %q", reason)
	default:
	}
	if _, err := kubelet.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{Error: "version 9 not supported"}); err != nil {
		t.Fatal(err)
	}
	select {
	case reason := <-failed:
		if reason != "version 9 not supported" {
			t.Fatalf("reason %q", reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the kubelet's failure did not reach main")
	}
}

// A socket left by a killed registrar does not stop the next one.
func TestAStaleSocketIsReplaced(t *testing.T) {
	dir := t.TempDir()
	first, _, err := Serve(dir, &Registration{Name: "d"})
	if err != nil {
		t.Fatal(err)
	}
	first.Stop()
	second, _, err := Serve(dir, &Registration{Name: "d"})
	if err != nil {
		t.Fatalf("second Serve: %v", err)
	}
	second.Stop()
}
