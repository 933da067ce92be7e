Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
T.main(fn ->
  {:ok, pid} = GenServer.start(Stack, [])
  ref = Process.monitor(pid)
  try do GenServer.call(pid, :crash) catch :exit, r -> T.out("exit", r) end
  receive do {:DOWN, ^ref, _, _, r} -> T.out("down", r) end
end)
T.done()
