Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
T.main(fn ->
  {:ok, pid} = GenServer.start(Stack, [])
  try do
    GenServer.call(pid, {:sleep, 300}, 100)
  catch
    :exit, r -> T.out("exit", r)
  end
  Process.sleep(500)
  T.out("alive", Process.alive?(pid))
  T.flush()
end)
T.done()
