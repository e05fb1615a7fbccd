/**
 * The dump and restore engine: freezes a process, collects its state into an image set, and
 * recreates a process from one, verifying every image before anything is created.
 */
package dev.accr.engine;
