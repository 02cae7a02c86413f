--[[
  Read a limit. Writes nothing: a limit that does not exist yet is shown with the caller's
  defaults and stored = '0'.

  KEYS[1]  the limit's hash
  ARGV[1..5] defaults, as for acquire

  Returns the values of STATE_FIELDS as strings ('' = never happened).
]]
--- @include "prelude"
--- @include "read-state"
