"""Files in and out: the artifact store, URL downloads, media sniffing, annotation."""
