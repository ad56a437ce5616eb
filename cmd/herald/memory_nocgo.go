//go:build !linux || !cgo

package main

// limitCArenas does nothing where glibc's allocator is not in use.
func limitCArenas(int) {}

// trimCHeap does nothing where glibc's malloc_trim is not available.
func trimCHeap() {}
