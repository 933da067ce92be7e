Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
T.main(fn ->
  dead = spawn(fn -> :ok end)
  T.settle()
  try do GenServer.call(dead, :hi) catch :exit, r -> T.out("dead", r) end
  try do GenServer.call(:nobody, :hi) catch :exit, r -> T.out("unknown", r) end
  try do GenServer.call(self(), :hi) catch :exit, r -> T.out("self", r) end
end)
T.done()
