"""Config loading and validation: YAML text in, validated dict or ConfigError out. Pure: no I/O."""

from backstaff.schemas.errors import ConfigError, ConfigErrors
from backstaff.schemas.load import ConfigSources, load_config

__all__ = ["ConfigError", "ConfigErrors", "ConfigSources", "load_config"]
