"""Early warning: rules find causes, services raise each alert once, notify tells people and systems."""
