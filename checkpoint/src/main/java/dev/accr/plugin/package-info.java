/** The plugin host: finds checkpoint plugins and runs their hooks. */
package dev.accr.plugin;
