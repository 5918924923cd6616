package handlers_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/accessbot/accessbot/handlers"
)

func TestBackground_RunsAtMostItsSlotsAndWaitsForAll(t *testing.T) {
	b := handlers.NewBackground(2, slog.New(slog.DiscardHandler))
	release := make(chan struct{})
	var ran atomic.Int32
	held := func() { <-release; ran.Add(1) }
	require.True(t, b.Start(context.Background(), held))
	b.Go(held)
	assert.Equal(t, 2, b.Running())

	full, cancel := context.WithCancel(context.Background())
	cancel()
	assert.False(t, b.Start(full, held), "no slot, and no more waiting: refused")
	b.Go(held) // dropped, and logged
	waiting, stop := context.WithCancel(context.Background())
	stop()
	assert.ErrorIs(t, b.Wait(waiting), context.Canceled, "two are still running")

	close(release)
	require.NoError(t, b.Wait(context.Background()))
	assert.Equal(t, int32(2), ran.Load(), "the two that ran; the refused and the dropped never did")
	assert.Equal(t, 0, b.Running())

	// The slots are free again, and the workers are used again.
	for range 100 {
		require.True(t, b.Start(context.Background(), func() { ran.Add(1) }))
	}
	require.NoError(t, b.Wait(context.Background()))
	assert.Equal(t, int32(102), ran.Load())
}
