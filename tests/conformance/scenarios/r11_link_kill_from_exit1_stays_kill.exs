Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  T.out("self", self())
  spawn_link(fn -> exit(:kill) end)
  T.settle()
end)
T.done()
