//go:build linux

package main

import (
	"math"
	"slices"
)

// Summary describes a set of latencies in milliseconds.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median_ms"`
	P95    float64 `json:"p95_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
}

// Summarize returns the median, 95th percentile, minimum and maximum of xs.
// It returns a zero Summary for no values.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Summary{
		N:      len(s),
		Median: median(s),
		P95:    percentile(s, 95),
		Min:    s[0],
		Max:    s[len(s)-1],
	}
}

// median is the middle of sorted values, or the mean of the two middle ones.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// percentile is the nearest-rank p-th percentile of sorted values: the
// smallest value with at least p% of the values at or below it. With 20
// samples, p95 is the 19th smallest.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
