// Package csi holds what both sidecar stand-ins need of a CSI plugin: a gRPC connection to its
// UNIX socket and flag handling that accepts the upstream sidecars' flags.
package csi

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial connects to the plugin's socket (a path or a unix:// address); the connection is lazy, so a
// plugin that is not up yet is found once it is.
func Dial(address string) (*grpc.ClientConn, error) {
	target := address
	if !strings.HasPrefix(target, "unix:") {
		target = "unix://" + target
	}
	return grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// WaitFor calls fn every second until it succeeds, logging each failure, or ctx ends.
func WaitFor(ctx context.Context, what string, fn func(context.Context) error) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fn(attempt)
		cancel()
		if err == nil {
			return nil
		}
		log.Printf("%s: %v (retrying)", what, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Parse parses the command line, exiting 2 with one line for an unknown flag (flag's default
// prints the whole usage). The upstream sidecars' klog flag -v is accepted and ignored.
func Parse(fs *flag.FlagSet, args []string) {
	fs.Int("v", 0, "log verbosity (accepted for compatibility; every line is logged)")
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
}
