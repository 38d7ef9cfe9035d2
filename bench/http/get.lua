-- wrk script for bench/http.sh: GET BENCH_PATH, where "{id}" becomes a
-- random id in 1..BENCH_IDS and "{word}" a random word of BENCH_WORDS
-- (comma-separated, or the lines of BENCH_WORDS_FILE), with BENCH_TOKEN as the bearer token when set.
local path = os.getenv("BENCH_PATH") or "/healthz"
local ids = tonumber(os.getenv("BENCH_IDS") or "1")
local token = os.getenv("BENCH_TOKEN") or ""
local words = {}
for w in string.gmatch(os.getenv("BENCH_WORDS") or "", "[^,]+") do
  words[#words + 1] = w
end
-- Or one per line of BENCH_WORDS_FILE (lists too long for a variable).
local file = os.getenv("BENCH_WORDS_FILE")
if file and file ~= "" then
  for line in io.lines(file) do
    words[#words + 1] = line
  end
end

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
  if token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

request = function()
  local p = path:gsub("{id}", function() return tostring(math.random(1, ids)) end)
  if #words > 0 then
    p = p:gsub("{word}", function() return words[math.random(1, #words)] end)
  end
  return wrk.format("GET", p)
end
