Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
T.main(fn ->
  {:ok, pid} = GenServer.start(Stack, [])
  T.out("stop", GenServer.stop(pid, :shutdown))
  T.out("alive", Process.alive?(pid))
  try do GenServer.stop(pid) catch :exit, r -> T.out("again", r) end
end)
T.done()
