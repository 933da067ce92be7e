Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
T.main(fn ->
  {:ok, pid} = GenServer.start(Stack, [])
  ref = Process.monitor(pid)
  T.out("reply", GenServer.call(pid, :stop_reply))
  receive do {:DOWN, ^ref, _, _, r} -> T.out("down", r) end
end)
T.done()
