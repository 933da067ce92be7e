Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  send(self(), :other)
  r = receive do
    m when is_integer(m) -> m
  after
    0 -> :timeout
  end
  T.out("result", r)
  T.flush()
end)
T.done()
