Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  spawn_link(fn -> :ok end)
  T.settle()
  T.out("alive", Process.alive?(self()))
  T.out("links", T.info(self(), :links))
end)
T.done()
