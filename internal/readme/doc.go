// Package readme has no code of its own: its tests hold README.md to the
// code it shows. Each Go block of the README is cut from a runnable
// example of the package it is about, and the README's Python line is
// run against a segment that Go made.
package readme
